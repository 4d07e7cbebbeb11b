"""Face enrolment, and the face checks that study sessions and test attempts ask for (at their start and at
random during them), with their staff review, appeals and face photo replacement."""

"""The course test over HTTP: the pages, the question/answer API and who may see a record."""
import json

import pytest
from sqlalchemy import select

from lms.quiz.models import Attempt, AttemptQuestion

from .conftest import ready_course, signed_in
from .quizdata import right_choice, wrong_choice


@pytest.fixture()
def course(ready):
    """The course whose test is open (conftest ``ready``)."""
    return ready


@pytest.fixture()
def learner_http(app, approved_learner):
    return signed_in(app, approved_learner.id_number)


def api(client, url, **body):
    response = client.post(url, data=json.dumps(body), content_type="application/json")
    return response.status_code, response.get_json()


def begin(client, course):
    response = client.post(f"/quiz/courses/{course.id}/test/start")
    assert response.status_code == 302
    attempt_id = int(response.headers["Location"].rstrip("/").split("/")[-2])
    page = client.get(f"/quiz/attempts/{attempt_id}/sit").get_data(as_text=True)
    config = json.loads(page.split('id="quiz-config">', 1)[1].split("</script>", 1)[0])
    return attempt_id, config, page


def test_the_course_page_says_the_test_waits_for_the_lessons(db, staff, open_class, approved_learner, short_video,
                                                             learner_http):
    course = ready_course(db, staff, open_class, [short_video])
    page = learner_http.get(f"/study/courses/{course.id}").get_data(as_text=True)
    assert "完成全部课时且学习时长经人脸核验确认后，方可参加考试。" in page
    assert "课程考试通过后，本课程学时方可计入。" in page
    home = learner_http.get(f"/quiz/courses/{course.id}/test").get_data(as_text=True)
    assert 'data-reason="lessons"' in home and 'id="start-test"' not in home
    assert learner_http.post(f"/quiz/courses/{course.id}/test/start").status_code == 302
    assert db.session.scalar(select(Attempt.id)) is None


def test_a_learner_takes_the_test_through_the_api(db, course, learner_http, approved_learner):
    study = learner_http.get("/study").get_data(as_text=True)
    assert 'data-passed="false"' in study and "已计入" not in study
    home = learner_http.get(f"/quiz/courses/{course.id}/test").get_data(as_text=True)
    assert "严禁作弊" in home and 'id="start-test"' in home
    attempt_id, config, page = begin(learner_http, course)
    assert "严禁作弊！每道题的作答、作答时间和每次人脸核验均有记录。" in page
    status, step = api(learner_http, config["nextUrl"], tab=config["tab"])
    answered = 0
    while step["state"] == "question":
        question = db.session.get(AttemptQuestion, step["question"]["id"])
        assert status == 200 and 0 < step["seconds_left"] <= 60
        assert set(step["question"]) == {"id", "position", "kind", "kind_name", "stem", "options", "points"}
        assert question.explanation not in json.dumps(step, ensure_ascii=False)
        choice = right_choice(question) if answered < 4 else wrong_choice(question)
        status, step = api(learner_http, config["answerUrl"], tab=config["tab"], question=question.id, choice=choice)
        answered += 1
    assert (status, step["state"], step["score"], step["passed"]) == (200, "finished", 80, True)
    record = learner_http.get(step["result_url"]).get_data(as_text=True)
    assert "解析" in record and 'id="attempt-score">80<' in record
    study = learner_http.get("/study").get_data(as_text=True)
    assert 'data-passed="true"' in study and "已计入 2.0 学时" in study


def test_the_api_refuses_bad_requests_with_json(db, course, learner_http):
    attempt_id, config, _ = begin(learner_http, course)
    url = config["answerUrl"]
    assert api(learner_http, url, tab=config["tab"], question="1", choice=[0])[0] == 400
    assert api(learner_http, url, tab=config["tab"], question=1, choice="A")[0] == 400
    assert api(learner_http, url, question=1, choice=[0])[0] == 400
    status, body = api(learner_http, url, tab="someone-elses", question=1, choice=[0])
    assert (status, body["code"]) == (409, "other_tab")
    first = db.session.scalar(select(AttemptQuestion).filter_by(attempt_id=attempt_id, position=1))
    status, body = api(learner_http, url, tab=config["tab"], question=first.id, choice=[0])
    assert (status, body["code"], body["error"]) == (400, "not_served", "本次考试尚未出此题。")
    response = learner_http.post(url, data="[", content_type="application/json")
    assert response.status_code == 400 and response.get_json()["code"]


def test_a_second_tab_takes_the_attempt_over(db, course, learner_http):
    attempt_id, first, _ = begin(learner_http, course)
    status, step = api(learner_http, first["nextUrl"], tab=first["tab"])
    second = json.loads(learner_http.get(f"/quiz/attempts/{attempt_id}/sit").get_data(as_text=True)
                        .split('id="quiz-config">', 1)[1].split("</script>", 1)[0])
    status, body = api(learner_http, first["answerUrl"], tab=first["tab"], question=step["question"]["id"], choice=[0])
    assert (status, body["code"]) == (409, "other_tab")
    status, again = api(learner_http, second["nextUrl"], tab=second["tab"])
    assert again["question"]["id"] == step["question"]["id"] and again["served_at"] == step["served_at"]


def test_nobody_else_reaches_an_attempt(app, db, course, learner_http, other_learner, staff, other_staff,
                                        regulator, other_regulator):
    attempt_id, config, _ = begin(learner_http, course)
    other = signed_in(app, other_learner.id_number)
    assert api(other, config["nextUrl"], tab=config["tab"])[0] == 404
    assert other.get(f"/quiz/attempts/{attempt_id}/sit").status_code == 404
    assert other.get(f"/quiz/attempts/{attempt_id}").status_code == 404
    for user, expected in ((staff, 200), (other_staff, 404), (regulator, 200), (other_regulator, 404)):
        client = signed_in(app, user.username)
        assert client.get(f"/quiz/attempts/{attempt_id}").status_code == expected, user.username
        assert api(client, config["nextUrl"], tab=config["tab"])[0] == 403
    # the learner sees no key while the attempt is open: the record sends them back to the test
    assert learner_http.get(f"/quiz/attempts/{attempt_id}").status_code == 302


def test_staff_see_their_courses_results(app, db, course, learner_http, staff, other_staff):
    attempt_id, config, _ = begin(learner_http, course)
    client = signed_in(app, staff.username)
    assert f'href="/quiz/courses/{course.id}/results"' in client.get(f"/courses/{course.id}").get_data(as_text=True)
    page = client.get(f"/quiz/courses/{course.id}/results").get_data(as_text=True)
    assert f"/quiz/attempts/{attempt_id}" in page
    client = signed_in(app, other_staff.username)
    assert client.get(f"/quiz/courses/{course.id}/results").status_code == 404


def test_two_requests_answering_the_same_question_at_once_count_once(app, db, course, learner_http,
                                                                      approved_learner):
    from .test_player_parallel_start import run_together
    attempt_id, config, _ = begin(learner_http, course)
    status, step = api(learner_http, config["nextUrl"], tab=config["tab"])
    question = db.session.get(AttemptQuestion, step["question"]["id"])
    clients = [learner_http, signed_in(app, approved_learner.id_number)]
    results = run_together(lambda i: api(clients[i], config["answerUrl"], tab=config["tab"], question=question.id,
                                         choice=right_choice(question) if i else wrong_choice(question)))
    assert sorted(status for status, _ in results) == [200, 409]
    db.session.expire_all()
    stored = db.session.get(AttemptQuestion, question.id)
    winner = next(i for i, (status, _) in enumerate(results) if status == 200)
    assert stored.correct is bool(winner) and stored.answered_at is not None
    assert db.session.get(Attempt, attempt_id).current == 2

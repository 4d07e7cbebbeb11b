"""Encrypted storage of uploaded files under the media folder."""

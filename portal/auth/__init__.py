"""Accounts: registration, sign-in sessions, passwords, profiles, API tokens and their rate limits."""


def init_app(app):
    from . import usernames

    usernames.init_app(app)

"""The community: categories, topics, posts, answers, ideas, votes, flags, follows and reading."""


def init_app(app):
    from ..events import connect_subscribers
    from . import freshness, lists

    connect_subscribers(freshness, lists)
    lists.listen_for_commits()

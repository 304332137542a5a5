"""Pages of rows a query built by hand (aggregates, ranked boards), shaped like Flask-SQLAlchemy's."""
import math

import sqlalchemy as sa


class PageNavigation:
    """What the `pager` macro reads, from `page`, `per_page` and `total` on the class that mixes it in."""

    @property
    def pages(self):
        return max(math.ceil(self.total / self.per_page), 1)

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def prev_num(self):
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self):
        return self.page + 1 if self.has_next else None


class CountedPage(PageNavigation):
    """A page of ORM rows and the total, read in one statement (`count(*) OVER ()`).

    A list filtered by a substring search scans its table once instead of
    twice (Flask-SQLAlchemy's paginate() counts in a second statement). Only
    a page past the end costs the separate count.
    """

    def __init__(self, query, *, page, per_page):
        from .extensions import db

        self.page, self.per_page = page, per_page
        total = sa.func.count().over().label("total")
        rows = db.session.execute(query.add_columns(total).limit(per_page).offset((page - 1) * per_page)).all()
        self.items = [row[0] for row in rows]
        if rows:
            self.total = rows[0].total
        else:
            self.total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))

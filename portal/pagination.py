"""Pages of rows a query built by hand (aggregates, ranked boards), shaped like Flask-SQLAlchemy's."""
import math


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

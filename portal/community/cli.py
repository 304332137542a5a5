"""`flask posts rerender`: apply changed Markdown or sanitizing rules to stored posts."""
import click
import sqlalchemy as sa
from flask.cli import AppGroup
from sqlalchemy.orm import joinedload

from ..extensions import db
from . import markdown
from .content import Body
from .models import Post

posts_cli = AppGroup("posts", help="Maintain stored posts.")


def rerender_posts(*, everything=False, batch_size=500):
    """Re-render posts made under older rules (or all); returns how many changed."""
    changed, last_id = 0, 0
    while True:
        query = (sa.select(Post).options(joinedload(Post.author)).where(Post.id > last_id)
                 .order_by(Post.id).limit(batch_size))
        if not everything:
            query = query.where(Post.sanitizer_version < markdown.SANITIZER_VERSION)
        batch = db.session.scalars(query).all()
        if not batch:
            return changed
        for post in batch:
            content = Body(post.author, post.source)
            if content.html != post.html:
                changed += 1
            post.html, post.sanitizer_version = content.html, content.version
        last_id = batch[-1].id
        db.session.commit()


@posts_cli.command("rerender")
@click.option("--all", "everything", is_flag=True, help="Re-render every post, not only outdated ones.")
def rerender_command(everything):
    """Re-render stored posts with the current Markdown and sanitizing rules."""
    click.echo(f"{rerender_posts(everything=everything)} post(s) changed")

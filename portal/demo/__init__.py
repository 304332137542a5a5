"""The demo community (`flask seed-demo`): content as data (content.py), seeding as code (seed.py)."""
from .content import DEMO_PASSWORD, LOGINS, MEMBER_EMAIL, MODERATOR_EMAIL
from .seed import seed_demo

__all__ = ["DEMO_PASSWORD", "LOGINS", "MEMBER_EMAIL", "MODERATOR_EMAIL", "seed_demo"]

"""Moderators' pages: linked accounts (sockpuppets)."""
from flask import Blueprint

bp = Blueprint("moderation", __name__)

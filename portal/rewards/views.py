"""Leaderboards and badges in the browser."""
from flask import Blueprint

bp = Blueprint("rewards", __name__)

"""Referral links, the member's referrals page and the staff's referral funnel."""
from flask import Blueprint

bp = Blueprint("referrals", __name__)

"""Referrals: share links and codes, email invites, fraud rules, conversion and funnels."""

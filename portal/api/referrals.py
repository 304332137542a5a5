"""The caller's referrals over the API."""

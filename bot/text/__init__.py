"""Untrusted text made safe for Discord: bounded, unpinging, no invisible tricks, no private keys, within limits."""

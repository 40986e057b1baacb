"""Delivery: plans what each channel and DM is owed, renders it and sends it to Discord."""

"""Which anime or manga series a review is about, from its title and tags."""

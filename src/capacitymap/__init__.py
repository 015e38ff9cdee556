"""capacitymap: maps of bitcoin mining power capacity and pool hashrate."""

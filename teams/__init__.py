"""Teams of a challenge's students: they share its limits, its final picks and one
leaderboard row."""

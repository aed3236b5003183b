"""The two cards (两卡): the secretary's duty goal card and each member's vanguard card."""

"""The problem ledger (问题台账): problems branches raise, followed until solved."""

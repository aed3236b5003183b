"""Handover (工作移交): moving an instructor's branches to others, with a note per branch."""

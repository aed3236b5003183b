"""Party members (党员) of a branch: who they are in the branch, and nothing more personal."""

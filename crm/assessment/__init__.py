"""The instructors' annual assessment (年度考核): evidence from the records, the branches' own
ratings and the committee's grade."""

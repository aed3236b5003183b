"""Party branches (党组织): two-new branches, joint branches and agency branches."""

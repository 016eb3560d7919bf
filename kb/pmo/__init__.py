"""PMO workflows: standards lifecycle, lesson actions, kickoff briefs, recurring problems, dashboard, vocabulary."""

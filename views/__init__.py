"""The read side: what a plan looks like to whoever reads it. One typed record of a
plan, and what is built on it: `plan show` and the API's plan, the plan page, lists
and searches, HR's dashboard, the auditor's search, the evaluation report's facts.

Reads only: nothing here changes a plan (the rules are in `states`)."""

"""The voice: channels and bilingual templates (issue 3)."""

"""Changing a plan, in the caller's one transaction: firing an event (`firing`), signing an
approval chain (`signing`) and where a chain stands (`chains`), who may act (`authority`),
the effects a change starts (`effects`: outbox rows), and what guards and actions see
(`context`). The names a definition may use for guards, actions, flows, activities and
announcements are registered in `registry`, the functions themselves in `guards` and
`actions`."""

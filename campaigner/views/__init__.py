"""What people see of the campaign beyond the terminal's table: the month grid, the HTML preview,
the iCalendar feed and the report per goal. Each view is a function of the calendar, the rendered
posts, the ledger's records and `now`; the commands in `cli/` only gather those and write the result."""

"""Personal data (个人信息保护法): phone numbers masked for those without the right to them,
and revealing one an audited action."""

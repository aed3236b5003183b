"""Excel in and out (数据导入导出): the 组织部's spreadsheets, read however messy, and every
admin list written back out."""

"""学生体质健康: scoring by the 2014 national standard, shared with the dbt health mart."""

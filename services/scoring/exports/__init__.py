"""Export of current classes for the national level (全量推送/上报国家级)."""

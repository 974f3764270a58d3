"""A TimeTracker Gateway connector for Tasklog, a made-up ticket system."""

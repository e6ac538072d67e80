"""The tools Jamono ships, one module per family; registered in apps.tools.catalog."""

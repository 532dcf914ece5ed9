"""Notices: the strategic part — filing, the cell index, the 4D conflict search."""

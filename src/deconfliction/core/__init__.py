"""Pure core: units, the Earth model, footprints, 4D volumes and their conflicts."""

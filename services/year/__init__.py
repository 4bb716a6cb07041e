"""The assessment year (menu: Reports): the figures of a year, the compliance overview,
the district report and signing the year off."""

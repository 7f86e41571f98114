"""The drugs as origami knows them: Ordoclic's drug database first, and a local memory of every
product Ordoclic returned, a line used or a BDPM import brought (``memory``), which answers the
drug search when Ordoclic does not (``catalogue``). What is picked from memory is checked
against Ordoclic before the prescription is sent (``catalogue.drug_check``, at consolidation)."""

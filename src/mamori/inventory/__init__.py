"""The deployed inventory: which supplier product releases run where, and what to patch first.

- :mod:`mamori.inventory.deployments`: deployments (release, site, SSVC context, owner, end of support);
- :mod:`mamori.inventory.transfer`: asset lists in (CSV, XLSX) and out;
- :mod:`mamori.inventory.priorities`: the deployer-ranked patch list with its coverage;
- :mod:`mamori.inventory.events`: the ``deployed_kev`` and ``end_of_support`` notifications.
"""

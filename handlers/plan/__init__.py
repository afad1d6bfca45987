"""Plan Monitoring: /plan, /plan features, the feature ⋮ menus, Share, the Home's Plan Monitoring tab and feature status notices."""

-- Nobody acts on an account that holds more than they do (the subset rule),
-- so an organisation's Administrator role holds every permission: its
-- holders can then act on every account of the organisation. New
-- organisations get it from backend/access.rs; this gives it to the
-- organisations that exist already (an Administrator role an organisation
-- has renamed is left as it is).
INSERT INTO role_permissions (role_id, permission)
SELECT r.id, p.permission
FROM roles r
CROSS JOIN (
    SELECT 'users.view' AS permission
    UNION ALL SELECT 'users.manage'
    UNION ALL SELECT 'roles.manage'
    UNION ALL SELECT 'api_users.manage'
    UNION ALL SELECT 'audit.view'
    UNION ALL SELECT 'pupils.view'
    UNION ALL SELECT 'pupils.edit'
    UNION ALL SELECT 'reports.view'
) p
WHERE r.name = 'Administrator'
  AND NOT EXISTS (
      SELECT 1 FROM role_permissions rp WHERE rp.role_id = r.id AND rp.permission = p.permission
  );

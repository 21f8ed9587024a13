-- Profiles are named sets of roles (e.g. "Office administrator" = User
-- administrator + Office staff), so a job's access is given in one step.
-- A user's permissions are the union of their roles' and their profiles'
-- roles'. Rows linking two things carry the organisation, and the composite
-- foreign keys make a link across organisations impossible.

CREATE UNIQUE INDEX users_id_organisation_key ON users (id, organisation_id);
CREATE UNIQUE INDEX roles_id_organisation_key ON roles (id, organisation_id);

CREATE TABLE profiles (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id  INTEGER NOT NULL REFERENCES organisations (id),
    name             TEXT    NOT NULL,
    description      TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL
);
-- Unique per organisation whatever the case (SQLite's lower() folds ASCII;
-- the application also compares Unicode-folded names inside its write
-- transaction, which SQLite serialises).
CREATE UNIQUE INDEX profiles_name_key ON profiles (organisation_id, lower(name));
CREATE UNIQUE INDEX profiles_id_organisation_key ON profiles (id, organisation_id);

CREATE TABLE profile_roles (
    profile_id       INTEGER NOT NULL,
    role_id          INTEGER NOT NULL,
    organisation_id  INTEGER NOT NULL,
    PRIMARY KEY (profile_id, role_id),
    FOREIGN KEY (profile_id, organisation_id) REFERENCES profiles (id, organisation_id),
    FOREIGN KEY (role_id, organisation_id) REFERENCES roles (id, organisation_id)
);
CREATE INDEX profile_roles_role ON profile_roles (role_id);

CREATE TABLE user_profiles (
    user_id          INTEGER NOT NULL,
    profile_id       INTEGER NOT NULL,
    organisation_id  INTEGER NOT NULL,
    granted_at       INTEGER NOT NULL,
    granted_by       INTEGER REFERENCES users (id),
    PRIMARY KEY (user_id, profile_id),
    FOREIGN KEY (user_id, organisation_id) REFERENCES users (id, organisation_id),
    FOREIGN KEY (profile_id, organisation_id) REFERENCES profiles (id, organisation_id)
);
CREATE INDEX user_profiles_profile ON user_profiles (profile_id);

-- The starter profiles (backend/access.rs makes them for organisations
-- created from now on), for the organisations that exist already; a starter
-- role an organisation has renamed is simply left out.
INSERT INTO profiles (organisation_id, name, description, created_at)
SELECT o.id, s.name, s.description, CAST(strftime('%s', 'now') AS INTEGER)
FROM organisations o
CROSS JOIN (
    SELECT 'Office administrator' AS name, 'Runs the office: manages accounts and reads reports' AS description
    UNION ALL SELECT 'Teaching staff', 'Teaches: works with pupil-level data and reads reports'
    UNION ALL SELECT 'Head of department', 'Teaches, looks colleagues up and reads reports'
) s;

INSERT INTO profile_roles (profile_id, role_id, organisation_id)
SELECT p.id, r.id, p.organisation_id
FROM profiles p
JOIN (
    SELECT 'Office administrator' AS profile, 'User administrator' AS role
    UNION ALL SELECT 'Office administrator', 'Office staff'
    UNION ALL SELECT 'Teaching staff', 'Teacher'
    UNION ALL SELECT 'Head of department', 'Teacher'
    UNION ALL SELECT 'Head of department', 'Office staff'
) m ON m.profile = p.name
JOIN roles r ON r.organisation_id = p.organisation_id AND r.name = m.role;

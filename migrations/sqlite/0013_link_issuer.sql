-- Who issued a link (an administrator sending a welcome or set-password
-- email; NULL when the person asked for it, or for setup links). A link is
-- refused once the account has grown beyond its issuer's reach: otherwise
-- an administrator could send a pending account's link to an address of
-- theirs and wait for someone stronger to give it more.
ALTER TABLE one_time_links ADD COLUMN issued_by INTEGER REFERENCES users (id);

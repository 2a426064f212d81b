-- The parent's region, for the services guide: one of the ids in catalog/regions.toml,
-- asked once and changeable. Nothing finer than the region is kept.
ALTER TABLE users ADD COLUMN region TEXT;

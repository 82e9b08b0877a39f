-- Care and home access: the owner's home, its access secrets sealed by envelope encryption
-- (dogwalk.adapters.envelope), the dogs' care notes, and the log of the walkers who read them.

-- One home per owner. The address and the vet are plain (an address is on every booking's pickup
-- already); the access instructions, the lockbox code and the emergency contact are one JSON
-- document sealed with AES-256-GCM under a data key of its own, which KMS encrypted under the
-- home-access key with the owner's id as encryption context: a row copied to another owner
-- does not open.
CREATE TABLE homes (
    owner_id           uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    address            text NOT NULL CHECK (length(address) BETWEEN 1 AND 500),
    vet_name           text CHECK (length(vet_name) BETWEEN 1 AND 200),
    vet_phone          text CHECK (vet_phone ~ '^\+[1-9][0-9]{6,14}$'),
    CHECK ((vet_name IS NULL) = (vet_phone IS NULL)),
    -- 12-byte nonce || ciphertext || 16-byte tag
    sealed             bytea NOT NULL CHECK (length(sealed) > 28),
    encrypted_data_key bytea NOT NULL,
    -- the KMS key that encrypted the data key (its ARN, as KMS answered)
    key_id             text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Every read of a booking's care by its walker; a read is never changed (an account's deletion
-- removes the rows of the owner's own log).
CREATE TABLE home_access_reads (
    id         uuid PRIMARY KEY,
    owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    walker_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    booking_id uuid NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    read_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX home_access_reads_by_owner ON home_access_reads (owner_id, read_at DESC, id DESC);
CREATE TRIGGER home_access_reads_unchanged BEFORE UPDATE ON home_access_reads
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- what the walker reads of each dog around the walk (plain columns: care notes, not secrets)
ALTER TABLE dogs
    ADD COLUMN medical_notes text CHECK (length(medical_notes) <= 2000),
    ADD COLUMN feeding       text CHECK (length(feeding) <= 1000),
    ADD COLUMN vaccinations  jsonb NOT NULL DEFAULT '[]'
        CHECK (jsonb_typeof(vaccinations) = 'array' AND jsonb_array_length(vaccinations) <= 20);

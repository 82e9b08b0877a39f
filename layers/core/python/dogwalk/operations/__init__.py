"""Operations: the health check (`health`) and what a deploy runs (`deploy`: migrations, the
signing key, the operator admin); declarations in `registry`."""

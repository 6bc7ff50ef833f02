module sihlicon/tests/interop/crypto_merkle_go

go 1.19

require github.com/transparency-dev/merkle v0.0.2

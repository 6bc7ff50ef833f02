// SPDX-License-Identifier: Apache-2.0

// Checks sihlicon's RFC 9162 Merkle roots, inclusion proofs and consistency proofs with an
// independent implementation, github.com/transparency-dev/merkle (the Go library behind
// Trillian and the transparency-dev logs): the roots are recomputed from the leaves with its
// compact ranges, every proof is checked with its verifiers, and tampered proofs must fail.
//
// Usage: go run . PATH/TO/crypto_interop_vectors
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

type consistency struct {
	OldSize uint64   `json:"old_size"`
	OldRoot string   `json:"old_root"`
	Proof   []string `json:"proof"`
}

type tree struct {
	Leaves      []string      `json:"leaves"`
	Root        string        `json:"root"`
	Inclusion   [][]string    `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
}

var passed, failed int

func expect(ok bool, format string, args ...interface{}) {
	if ok {
		passed++
		return
	}
	failed++
	fmt.Fprintf(os.Stderr, "FAILED: "+format+"\n", args...)
}

func decode(text string) []byte {
	bytes, err := hex.DecodeString(text)
	if err != nil {
		panic(err)
	}
	return bytes
}

func decodeAll(texts []string) [][]byte {
	out := make([][]byte, len(texts))
	for i, text := range texts {
		out[i] = decode(text)
	}
	return out
}

// roots returns the root of every prefix of the leaves, computed by compact ranges.
func roots(leafHashes [][]byte) [][]byte {
	factory := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	rng := factory.NewEmptyRange(0)
	out := [][]byte{rfc6962.DefaultHasher.EmptyRoot()}
	for _, leafHash := range leafHashes {
		if err := rng.Append(leafHash, nil); err != nil {
			panic(err)
		}
		root, err := rng.GetRootHash(nil)
		if err != nil {
			panic(err)
		}
		out = append(out, root)
	}
	return out
}

func tampered(path [][]byte, element int) [][]byte {
	out := make([][]byte, len(path))
	for i := range path {
		out[i] = append([]byte(nil), path[i]...)
	}
	out[element][0] ^= 1
	return out
}

func main() {
	output, err := exec.Command(os.Args[1], "merkle").Output()
	if err != nil {
		panic(err)
	}
	var vectors struct {
		Trees []tree `json:"trees"`
	}
	if err := json.Unmarshal(output, &vectors); err != nil {
		panic(err)
	}
	hasher := rfc6962.DefaultHasher
	for _, t := range vectors.Trees {
		size := uint64(len(t.Leaves))
		leafHashes := make([][]byte, size)
		for i, leaf := range t.Leaves {
			leafHashes[i] = hasher.HashLeaf(decode(leaf))
		}
		prefixRoots := roots(leafHashes)
		root := prefixRoots[size]
		expect(hex.EncodeToString(root) == t.Root, "root of %d leaves: ours %s, theirs %x", size, t.Root, root)
		for index, pathText := range t.Inclusion {
			path := decodeAll(pathText)
			err := proof.VerifyInclusion(hasher, uint64(index), size, leafHashes[index], path, root)
			expect(err == nil, "inclusion proof of leaf %d in %d: %v", index, size, err)
			if len(path) > 0 {
				bad := tampered(path, index%len(path))
				expect(proof.VerifyInclusion(hasher, uint64(index), size, leafHashes[index], bad, root) != nil,
					"a tampered inclusion proof of leaf %d in %d verifies", index, size)
			}
		}
		for _, c := range t.Consistency {
			oldRoot := prefixRoots[c.OldSize]
			expect(hex.EncodeToString(oldRoot) == c.OldRoot, "root of the first %d of %d leaves", c.OldSize, size)
			path := decodeAll(c.Proof)
			err := proof.VerifyConsistency(hasher, c.OldSize, size, path, oldRoot, root)
			expect(err == nil, "consistency proof %d -> %d: %v", c.OldSize, size, err)
			if len(path) > 0 {
				bad := tampered(path, int(c.OldSize)%len(path))
				expect(proof.VerifyConsistency(hasher, c.OldSize, size, bad, oldRoot, root) != nil,
					"a tampered consistency proof %d -> %d verifies", c.OldSize, size)
			}
		}
	}
	fmt.Printf("crypto.interop.merkle: %d passed, %d failed\n", passed, failed)
	if failed > 0 || passed == 0 {
		os.Exit(1)
	}
}

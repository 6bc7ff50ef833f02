// SPDX-License-Identifier: Apache-2.0
//
// jobs.json streamed while an epoch's jobs are read (src/settlement/leaves.hpp): the bytes a
// seal stores are those of the joined file, whatever the order in which parts arrive.
#include "settlement/leaves.hpp"

#include "support/errors.hpp"

#include <doctest/doctest.h>
#include <sihlicon/error.hpp>

#include <fmt/format.h>

#include <thread>

using namespace sihlicon;
using sihlicon::settlement::JobsJsonStream;
using sihlicon::settlement::LeafFields;
using sihlicon::settlement::LeafWriter;
using sihlicon::testing::error_of;

namespace {

// Reads the whole stream `step` bytes at a time.
std::string read_all(JobsJsonStream& stream, std::size_t step) {
    std::string out;
    std::vector<std::uint8_t> buffer(step);
    for (;;) {
        const auto got = stream.read(buffer);
        if (got == 0) {
            return out;
        }
        out.append(reinterpret_cast<const char*>(buffer.data()), got);
    }
}

struct Job {
    std::string id, client, worker, result;
    LeafFields fields() const {
        return LeafFields{client, 1'767'225'600'000, "USD", 7, "zurich", id, "ocr", "ab", result,
                          worker};
    }
};

std::vector<Job> jobs(std::size_t count) {
    std::vector<Job> result;
    for (std::size_t i = 0; i < count; ++i) {
        result.push_back(Job{fmt::format("job-{:08}", i), fmt::format("client-{}", i % 11),
                             fmt::format("bee-{}", i % 3), fmt::format("r\"{}\n", i)});
    }
    return result;
}

}  // namespace

TEST_CASE("streamed parts hand out the bytes and the hash of the file joined in one pass") {
    // Enough leaves for several 1 MiB chunks per part; the middle part is empty.
    const auto all = jobs(12'000);
    const std::size_t bounds[] = {0, 7'000, 7'000, all.size()};
    std::vector<LeafWriter> whole_parts;
    whole_parts.emplace_back(true);
    for (const auto& job : all) {
        whole_parts.front().add(job.fields());
    }
    const auto whole = LeafWriter::join(whole_parts);

    JobsJsonStream stream;
    std::string streamed;
    std::thread reader([&] { streamed = read_all(stream, 4'093); });
    stream.set_parts(3);
    std::vector<LeafWriter> parts;
    for (std::size_t p = 0; p < 3; ++p) {
        parts.emplace_back(&stream, p, 0);
    }
    // The last part is written first: the reader must wait for the first.
    for (std::size_t p : {2, 1, 0}) {
        for (std::size_t i = bounds[p]; i < bounds[p + 1]; ++i) {
            parts[p].add(all[i].fields());
        }
        parts[p].close();
    }
    reader.join();
    CHECK(streamed.size() == whole.jobs_json.size());
    CHECK(streamed == whole.jobs_json);
    CHECK(stream.sha256_hex() == crypto::to_hex(crypto::sha256(whole.jobs_json)));
    const auto joined = LeafWriter::join(parts);
    CHECK(joined.jobs_json.empty());  // the text went to the stream
    CHECK(joined.hashes == whole.hashes);
    CHECK(joined.revenue == whole.revenue);
    CHECK(joined.clients == whole.clients);
    CHECK(joined.jobs_of == whole.jobs_of);
    // Marks name their leaf's place in the epoch: every 256th of each part, parts' first too.
    REQUIRE(joined.marks.size() == (7'000 + 255) / 256 + (5'000 + 255) / 256);
    for (const auto& mark : joined.marks) {
        CHECK(all.at(mark.index).id == mark.job_id);
    }
    CHECK(joined.marks[(7'000 + 255) / 256].index == 7'000);
}

TEST_CASE("an epoch without jobs streams []") {
    JobsJsonStream stream;
    stream.set_parts(1);
    LeafWriter part(&stream, 0, 0);
    part.close();
    CHECK(read_all(stream, 1) == "[]");
    CHECK(stream.sha256_hex() == crypto::to_hex(crypto::sha256("[]")));
}

TEST_CASE("a writer's failure reaches the reader, even before the parts are known") {
    JobsJsonStream stream;
    std::optional<ErrorCode> seen;
    std::thread reader([&] { seen = error_of([&] { read_all(stream, 64); }); });
    stream.fail(std::make_exception_ptr(Error(ErrorCode::io, "disk gone")));
    reader.join();
    CHECK(seen == ErrorCode::io);
    CHECK(error_of([&] { stream.sha256_hex(); }) == ErrorCode::internal);
}

TEST_CASE("once the reader stops, writers are told so at their next chunk") {
    JobsJsonStream stream;
    stream.set_parts(1);
    stream.stop();
    CHECK(error_of([&] { stream.append(0, "{}"); }) == ErrorCode::io);
    LeafWriter part(&stream, 0, 0);
    CHECK(error_of([&] {
              for (const auto& job : jobs(20'000)) {  // several chunks
                  part.add(job.fields());
              }
          }) == ErrorCode::io);
}

TEST_CASE("without a stream only the hashes are kept") {
    LeafWriter hashes_only(nullptr, 0, 0);
    LeafWriter kept(true);
    for (const auto& job : jobs(5'000)) {
        hashes_only.add(job.fields());
        kept.add(job.fields());
    }
    hashes_only.close();
    std::vector<LeafWriter> a;
    a.push_back(std::move(hashes_only));
    std::vector<LeafWriter> b;
    b.push_back(std::move(kept));
    const auto without = LeafWriter::join(a);
    const auto with = LeafWriter::join(b);
    CHECK(without.jobs_json.empty());
    CHECK(without.hashes == with.hashes);
}

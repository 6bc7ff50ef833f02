// SPDX-License-Identifier: Apache-2.0
//
// JSON in and out. Reading requests field by field with errors that name the field's full
// path ("workloadConfig.resources.cpu") and the offending value; writing records with numbers
// in their plain decimal form (1.25, not Boost.JSON's 1.25E0). Not installed.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sihlicon::json {

// Serialises `value` compactly, writing every double in its shortest round-trip decimal form
// ("1.25", "0.000001", "1e+21") instead of Boost.JSON's always-exponent form.
std::string serialize(const boost::json::value& value);

// A JSON array of the strings, in order.
boost::json::array string_array(const std::vector<std::string>& items);

// Writes one JSON object straight into text, its fields in the order written: the text
// serialize() gives for the same boost::json::object, without building the object first (for
// records on hot paths: a job is returned by every submit, claim and completion, and building
// its object cost more than the rest of its serialisation).
class ObjectWriter {
  public:
    ObjectWriter() { text_ += '{'; }

    ObjectWriter& field(std::string_view key, std::string_view text);
    ObjectWriter& field(std::string_view key, const char* text) {
        return field(key, std::string_view(text));
    }
    ObjectWriter& field(std::string_view key, const std::string& text) {
        return field(key, std::string_view(text));
    }
    ObjectWriter& field(std::string_view key, std::int64_t number);
    ObjectWriter& field(std::string_view key, int number) {
        return field(key, static_cast<std::int64_t>(number));
    }
    ObjectWriter& field(std::string_view key, bool value);
    ObjectWriter& field(std::string_view key, std::nullptr_t);
    // The text, or null.
    ObjectWriter& field(std::string_view key, const std::optional<std::string>& text);
    // An array of the strings.
    ObjectWriter& field(std::string_view key, const std::vector<std::string>& items);
    // Any value, as serialize() writes it.
    ObjectWriter& field(std::string_view key, const boost::json::value& value);
    // An object of the strings, in key order.
    ObjectWriter& field(std::string_view key, const std::map<std::string, std::string>& items);
    // A nested object: what `object` wrote (the writer is spent).
    ObjectWriter& field(std::string_view key, ObjectWriter&& object);

    // The object's text; the writer is spent.
    std::string finish();

  private:
    void key(std::string_view name);
    std::string text_;
};

// "[a,b,...]" from the JSON text `to_text(record)` of each record, joined as they are: parsing
// and serialising them again would rewrite their numbers. Header-only, so the CLI (which links
// only the library's exported API) can use it too.
template <typename Records, typename ToText>
std::string join_array(const Records& records, ToText to_text) {
    std::string text = "[";
    for (const auto& record : records) {
        if (text.size() > 1) {
            text += ',';
        }
        text += to_text(record);
    }
    return text + "]";
}

// join_array of the records' own to_json().
template <typename Records>
std::string join_array(const Records& records) {
    return join_array(records, [](const auto& record) { return record.to_json(); });
}

// Parses `text` as one JSON value, strictly: the one parser for every JSON input that comes
// from outside (job specs, receipts and their summaries and leaves, options, hub and worker
// JSON, the C ABI's and the bindings' JSON). Throws Error::invalid(field, text, ...) naming
// the problem and its byte offset if `text` is not one JSON value, holds bytes that are not
// UTF-8 or a lone surrogate escape ("\ud800"), repeats a member name in one object, or holds
// a number that overflows a double or an integer literal too long for 64 bits.
boost::json::value parse(std::string_view text, std::string_view field = "body");

// A view of one JSON object under a path. Each getter records the key as known; finish()
// refuses keys that no getter asked for, so a misspelt field is an error, not silence.
class ObjectReader {
  public:
    // Throws Error::invalid(path, ...) if `value` is not an object.
    ObjectReader(const boost::json::value& value, std::string path);

    std::string path_of(std::string_view key) const;
    bool has(std::string_view key) const;

    std::string required_string(std::string_view key, std::size_t max_length = 1024);
    std::optional<std::string> optional_string(std::string_view key, std::size_t max_length = 1024);
    std::optional<std::int64_t> optional_int64(std::string_view key, std::int64_t min,
                                               std::int64_t max);
    std::optional<bool> optional_bool(std::string_view key);
    // A non-negative JSON number, exact to `fraction_digits` decimals, scaled to an integer:
    // 1.5 with 6 digits is 1'500'000. Integers and decimals written with at most that many
    // digits convert exactly.
    std::optional<std::int64_t> optional_decimal(std::string_view key, int fraction_digits);
    std::optional<std::vector<std::string>> optional_string_array(std::string_view key,
                                                                  std::size_t max_items,
                                                                  std::size_t max_length = 1024);
    std::optional<std::map<std::string, std::string>> optional_string_map(
        std::string_view key, std::size_t max_items, std::size_t max_length = 4096);
    // The value under `key` if present (any type), marking the key as known.
    const boost::json::value* optional_value(std::string_view key);

    // Throws Error::invalid naming the first key no getter asked for.
    void finish() const;

  private:
    const boost::json::object* object_;
    std::string path_;
    std::set<std::string, std::less<>> known_;
};

}  // namespace sihlicon::json

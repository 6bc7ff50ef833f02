// SPDX-License-Identifier: Apache-2.0
#include "core/json.hpp"

#include <sihlicon/checked.hpp>
#include <sihlicon/error.hpp>
#include <sihlicon/text.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

namespace sihlicon::json {

namespace {

std::int64_t power_of_ten(int digits) {
    std::int64_t result = 1;
    for (int i = 0; i < digits; ++i) {
        result *= 10;
    }
    return result;
}

std::string shown(const boost::json::value& value) {
    return boost::json::serialize(value);
}

std::string kind_of(const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::null:
            return "null";
        case boost::json::kind::bool_:
            return "a boolean";
        case boost::json::kind::int64:
        case boost::json::kind::uint64:
        case boost::json::kind::double_:
            return "a number";
        case boost::json::kind::string:
            return "a string";
        case boost::json::kind::array:
            return "an array";
        case boost::json::kind::object:
            return "an object";
    }
    return "a value";
}

void check_length(const std::string& path, std::string_view text, std::size_t max_length) {
    if (text.size() > max_length) {
        throw Error::invalid(path, text, "is longer than " + std::to_string(max_length) + " bytes");
    }
}

// Text that boost::json writes between quotes unchanged: printable ASCII without '"' and '\\'.
bool needs_no_escaping(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'; });
}

// The string as boost::json::serialize writes it, without building a serializer for the
// common case of text that needs no escaping.
void write_string(std::string_view text, std::string& out) {
    if (needs_no_escaping(text)) {
        out += '"';
        out += text;
        out += '"';
        return;
    }
    out += boost::json::serialize(boost::json::string_view(text.data(), text.size()));
}

template <class Integer>
void write_integer(Integer number, std::string& out) {
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, number);
    out.append(buffer, result.ptr);
}

void write(const boost::json::value& value, std::string& out) {
    switch (value.kind()) {
        case boost::json::kind::string: {
            const auto& text = value.get_string();
            write_string({text.data(), text.size()}, out);
            return;
        }
        case boost::json::kind::int64:
            write_integer(value.get_int64(), out);
            return;
        case boost::json::kind::uint64:
            write_integer(value.get_uint64(), out);
            return;
        case boost::json::kind::bool_:
            out += value.get_bool() ? "true" : "false";
            return;
        case boost::json::kind::null:
            out += "null";
            return;
        case boost::json::kind::double_: {
            char buffer[32];
            const auto result = std::to_chars(buffer, buffer + sizeof buffer, value.get_double());
            out.append(buffer, result.ptr);
            return;
        }
        case boost::json::kind::array: {
            out += '[';
            bool first = true;
            for (const auto& item : value.get_array()) {
                out += first ? "" : ",";
                first = false;
                write(item, out);
            }
            out += ']';
            return;
        }
        case boost::json::kind::object: {
            out += '{';
            bool first = true;
            for (const auto& [key, item] : value.get_object()) {
                out += first ? "" : ",";
                first = false;
                write_string({key.data(), key.size()}, out);
                out += ':';
                write(item, out);
            }
            out += '}';
            return;
        }
        default:
            out += boost::json::serialize(value);
    }
}

// A Boost.JSON parse handler that builds the value as boost::json::parser does (which already
// refuses bytes that are not UTF-8 and lone surrogate escapes such as "\ud800"), and also
// refuses what Boost would accept silently: a duplicate member name (Boost keeps the last), a
// number that overflows a double, an integer literal too long for 64 bits (Boost would round
// it into a double).
class StrictHandler {
  public:
    static constexpr std::size_t max_object_size = boost::json::object::max_size();
    static constexpr std::size_t max_array_size = boost::json::array::max_size();
    static constexpr std::size_t max_key_size = boost::json::string::max_size();
    static constexpr std::size_t max_string_size = boost::json::string::max_size();

    StrictHandler() { stack_.reset(); }

    boost::json::value release() { return stack_.release(); }
    const std::string& problem() const { return problem_; }

    bool on_document_begin(boost::json::error_code&) { return true; }
    bool on_document_end(boost::json::error_code&) { return true; }
    bool on_object_begin(boost::json::error_code&) {
        names_.emplace_back();
        return true;
    }
    bool on_object_end(std::size_t n, boost::json::error_code& ec) {
        std::vector<std::string>& names = names_.back();
        std::sort(names.begin(), names.end());
        const auto duplicate = std::adjacent_find(names.begin(), names.end());
        if (duplicate != names.end()) {
            return fail("duplicate member name \"" + printable(*duplicate, 64) + "\"", ec);
        }
        names_.pop_back();
        stack_.push_object(n);
        return true;
    }
    bool on_array_begin(boost::json::error_code&) { return true; }
    bool on_array_end(std::size_t n, boost::json::error_code&) {
        stack_.push_array(n);
        return true;
    }
    bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
        key_.append(s.data(), s.size());
        stack_.push_chars(s);
        return true;
    }
    bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code&) {
        key_.append(s.data(), s.size());
        names_.back().push_back(std::move(key_));
        key_.clear();
        stack_.push_key(s);
        return true;
    }
    bool on_string_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
        stack_.push_chars(s);
        return true;
    }
    bool on_string(boost::json::string_view s, std::size_t, boost::json::error_code&) {
        stack_.push_string(s);
        return true;
    }
    bool on_number_part(boost::json::string_view s, boost::json::error_code&) {
        number_.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t i, boost::json::string_view, boost::json::error_code&) {
        number_.clear();
        stack_.push_int64(i);
        return true;
    }
    bool on_uint64(std::uint64_t u, boost::json::string_view, boost::json::error_code&) {
        number_.clear();
        stack_.push_uint64(u);
        return true;
    }
    bool on_double(double d, boost::json::string_view s, boost::json::error_code& ec) {
        number_.append(s.data(), s.size());
        const std::string literal = std::move(number_);
        number_.clear();
        if (!std::isfinite(d)) {
            return fail("number " + printable(literal, 64) + " is outside the range of a double",
                        ec);
        }
        if (literal.find_first_of(".eE") == std::string::npos) {
            return fail("integer " + printable(literal, 64) + " does not fit in 64 bits", ec);
        }
        // Boost 1.81 may round a long literal 1 ulp off; std::from_chars rounds correctly,
        // as ECMAScript's JSON.parse does.
        double exact = d;
        const auto result = std::from_chars(literal.data(), literal.data() + literal.size(), exact);
        if (result.ec == std::errc::result_out_of_range) {
            exact = d;  // an underflow to zero or a subnormal: Boost's value is as good
        } else if (result.ec != std::errc() || result.ptr != literal.data() + literal.size()) {
            return fail("number " + printable(literal, 64) + " cannot be read", ec);
        }
        stack_.push_double(exact);
        return true;
    }
    bool on_bool(bool b, boost::json::error_code&) {
        stack_.push_bool(b);
        return true;
    }
    bool on_null(boost::json::error_code&) {
        stack_.push_null();
        return true;
    }
    bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
    bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

  private:
    bool fail(std::string problem, boost::json::error_code& ec) {
        problem_ = std::move(problem);
        ec = boost::json::error::syntax;
        return false;
    }

    boost::json::value_stack stack_;
    std::vector<std::vector<std::string>> names_;  // member names of each open object
    std::string key_;
    std::string number_;
    std::string problem_;
};

}  // namespace

std::string serialize(const boost::json::value& value) {
    std::string out;
    write(value, out);
    return out;
}

void ObjectWriter::key(std::string_view name) {
    if (text_.size() > 1) {
        text_ += ',';
    }
    write_string(name, text_);
    text_ += ':';
}

ObjectWriter& ObjectWriter::field(std::string_view name, std::string_view text) {
    key(name);
    write_string(text, text_);
    return *this;
}

ObjectWriter& ObjectWriter::field(std::string_view name, std::int64_t number) {
    key(name);
    write_integer(number, text_);
    return *this;
}

ObjectWriter& ObjectWriter::field(std::string_view name, bool value) {
    key(name);
    text_ += value ? "true" : "false";
    return *this;
}

ObjectWriter& ObjectWriter::field(std::string_view name, std::nullptr_t) {
    key(name);
    text_ += "null";
    return *this;
}

ObjectWriter& ObjectWriter::field(std::string_view name, const std::optional<std::string>& text) {
    return text ? field(name, std::string_view(*text)) : field(name, nullptr);
}

ObjectWriter& ObjectWriter::field(std::string_view name, const std::vector<std::string>& items) {
    key(name);
    text_ += '[';
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            text_ += ',';
        }
        write_string(items[i], text_);
    }
    text_ += ']';
    return *this;
}

ObjectWriter& ObjectWriter::field(std::string_view name, const boost::json::value& value) {
    key(name);
    write(value, text_);
    return *this;
}

ObjectWriter& ObjectWriter::field(std::string_view name,
                                  const std::map<std::string, std::string>& items) {
    ObjectWriter object;
    for (const auto& [item, text] : items) {
        object.field(item, text);
    }
    return field(name, std::move(object));
}

ObjectWriter& ObjectWriter::field(std::string_view name, ObjectWriter&& object) {
    key(name);
    text_ += object.finish();
    return *this;
}

std::string ObjectWriter::finish() {
    text_ += '}';
    return std::move(text_);
}

boost::json::array string_array(const std::vector<std::string>& items) {
    boost::json::array array;
    array.reserve(items.size());
    for (const auto& item : items) {
        array.emplace_back(item);
    }
    return array;
}

boost::json::value parse(std::string_view text, std::string_view field) {
    boost::json::basic_parser<StrictHandler> parser(boost::json::parse_options{});
    boost::json::error_code ec;
    const std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && consumed < text.size()) {
        ec = boost::json::error::extra_data;
    }
    if (ec) {
        const std::string& problem = parser.handler().problem();
        throw Error::invalid(field, text,
                             (problem.empty() ? "is not valid JSON: " + ec.message() : problem) +
                                 " at byte " + std::to_string(consumed));
    }
    return parser.handler().release();
}

ObjectReader::ObjectReader(const boost::json::value& value, std::string path)
    : object_(value.if_object()), path_(std::move(path)) {
    if (object_ == nullptr) {
        throw Error::invalid(path_.empty() ? "body" : path_, shown(value),
                             "must be a JSON object, not " + kind_of(value));
    }
}

std::string ObjectReader::path_of(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool ObjectReader::has(std::string_view key) const {
    const auto* found = object_->if_contains(key);
    return found != nullptr && !found->is_null();
}

const boost::json::value* ObjectReader::optional_value(std::string_view key) {
    known_.emplace(key);
    const auto* found = object_->if_contains(key);
    return found != nullptr && !found->is_null() ? found : nullptr;
}

std::optional<std::string> ObjectReader::optional_string(std::string_view key,
                                                         std::size_t max_length) {
    const auto* value = optional_value(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (!value->is_string()) {
        throw Error::invalid(path_of(key), shown(*value),
                             "must be a string, not " + kind_of(*value));
    }
    std::string text(value->get_string());
    check_length(path_of(key), text, max_length);
    return text;
}

std::string ObjectReader::required_string(std::string_view key, std::size_t max_length) {
    auto text = optional_string(key, max_length);
    if (!text || text->empty()) {
        throw Error::invalid(path_of(key), text.value_or(""), "is required");
    }
    return *text;
}

std::optional<std::int64_t> ObjectReader::optional_int64(std::string_view key, std::int64_t min,
                                                         std::int64_t max) {
    const auto* value = optional_value(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    std::int64_t number = 0;
    if (value->is_int64()) {
        number = value->get_int64();
    } else if (value->is_uint64() ||
               (value->is_double() && std::trunc(value->get_double()) == value->get_double())) {
        // A whole number written as 1e3 or beyond int64: convert only when exact.
        const double as_double =
            value->is_double() ? value->get_double() : static_cast<double>(value->get_uint64());
        if (!(as_double >= static_cast<double>(min) && as_double <= static_cast<double>(max))) {
            throw Error::invalid(
                path_of(key), shown(*value),
                "must be between " + std::to_string(min) + " and " + std::to_string(max));
        }
        number = static_cast<std::int64_t>(as_double);
    } else {
        throw Error::invalid(path_of(key), shown(*value), "must be a whole number");
    }
    if (number < min || number > max) {
        throw Error::invalid(
            path_of(key), shown(*value),
            "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return number;
}

std::optional<bool> ObjectReader::optional_bool(std::string_view key) {
    const auto* value = optional_value(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (!value->is_bool()) {
        throw Error::invalid(path_of(key), shown(*value), "must be true or false");
    }
    return value->get_bool();
}

std::optional<std::int64_t> ObjectReader::optional_decimal(std::string_view key,
                                                           int fraction_digits) {
    const auto* value = optional_value(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (value->is_int64() || value->is_uint64()) {
        const auto whole =
            value->is_int64() ? value->get_int64() : static_cast<std::int64_t>(value->get_uint64());
        if (value->is_uint64() && value->get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) {
            throw Error::invalid(path_of(key), shown(*value), "is too large");
        }
        if (whole < 0) {
            throw Error::invalid(path_of(key), shown(*value), "must not be negative");
        }
        if (whole > INT64_MAX / power_of_ten(fraction_digits)) {
            throw Error::invalid(path_of(key), shown(*value), "is too large");
        }
        return whole * power_of_ten(fraction_digits);
    }
    if (!value->is_double()) {
        throw Error::invalid(path_of(key), shown(*value), "must be a number");
    }
    // JSON numbers arrive as binary doubles; printing with the fraction digits we keep and
    // parsing that text exactly recovers every decimal written with at most that many digits.
    const double number = value->get_double();
    if (!std::isfinite(number) || number < 0) {
        throw Error::invalid(path_of(key), shown(*value), "must be a non-negative number");
    }
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", fraction_digits, number);
    return checked::parse_decimal(buffer, fraction_digits, path_of(key));
}

std::optional<std::vector<std::string>> ObjectReader::optional_string_array(
    std::string_view key, std::size_t max_items, std::size_t max_length) {
    const auto* value = optional_value(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    const auto* array = value->if_array();
    if (array == nullptr) {
        throw Error::invalid(path_of(key), shown(*value), "must be an array of strings");
    }
    if (array->size() > max_items) {
        throw Error::invalid(path_of(key), shown(*value),
                             "has more than " + std::to_string(max_items) + " items");
    }
    std::vector<std::string> items;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const auto item_path = path_of(key) + "[" + std::to_string(i) + "]";
        if (!(*array)[i].is_string()) {
            throw Error::invalid(item_path, shown((*array)[i]), "must be a string");
        }
        items.emplace_back((*array)[i].get_string());
        check_length(item_path, items.back(), max_length);
    }
    return items;
}

std::optional<std::map<std::string, std::string>> ObjectReader::optional_string_map(
    std::string_view key, std::size_t max_items, std::size_t max_length) {
    const auto* value = optional_value(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    const auto* object = value->if_object();
    if (object == nullptr) {
        throw Error::invalid(path_of(key), shown(*value), "must be an object of strings");
    }
    if (object->size() > max_items) {
        throw Error::invalid(path_of(key), shown(*value),
                             "has more than " + std::to_string(max_items) + " entries");
    }
    std::map<std::string, std::string> entries;
    for (const auto& [name, item] : *object) {
        const auto item_path = path_of(key) + "." + std::string(name);
        if (!item.is_string()) {
            throw Error::invalid(item_path, shown(item), "must be a string");
        }
        check_length(item_path, item.get_string(), max_length);
        entries.emplace(std::string(name), std::string(item.get_string()));
    }
    return entries;
}

void ObjectReader::finish() const {
    for (const auto& [name, value] : *object_) {
        if (!known_.contains(std::string_view(name))) {
            throw Error::invalid(path_of(name), shown(value), "is not a known field");
        }
    }
}

}  // namespace sihlicon::json

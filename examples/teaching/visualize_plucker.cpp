// visualize_plucker.cpp: a picture of what Plücker coordinates are, as an SVG file.
//
//   1. The dot product of two vectors is one number; their Plücker coordinate (in 2-D there is
//      one) is the signed area of the parallelogram they span.
//   2. Two pairs with the same dot product span different planes: their coordinates differ.
//   3. In 3-D a pair has three coordinates: the signed areas of the parallelogram's three
//      "shadows" on the xy, xz and yz planes.
//
// Every number in the picture is computed by gflow: gflow::terms::plucker_coordinates for the
// coordinates and gflow::kernels::matvec_rows (a 1 x n matrix times a vector) for the dot
// products. The file is written to a temporary name and then renamed, so that a reader never
// sees half a picture. Where `rsvg-convert` (Debian: librsvg2-bin) is on the PATH, a PNG is
// written beside the SVG the same way.
//
// Usage: visualize_plucker [out.svg]        (default plucker.svg)
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <gflow/core/kernels.hpp>
#include <gflow/io/error.hpp>
#include <gflow/terms/grassmann.hpp>

namespace {

namespace fs = std::filesystem;
using gflow::terms::plucker_coordinates;

// ---- the numbers, from gflow -----------------------------------------------------------------
template <int N>
double dot(const std::array<double, N>& u, const std::array<double, N>& v) {
    double out = 0;
    gflow::kernels::matvec_rows<1, N>(u.data(), v.data(), &out, 1);
    return out;
}

template <int N>
std::array<double, N*(N - 1) / 2> plucker(const std::array<double, N>& u, const std::array<double, N>& v) {
    std::array<double, N*(N - 1) / 2> p{};
    plucker_coordinates<N>(u.data(), v.data(), p.data());
    return p;
}

// 3.36 -> "+3.36", 3 -> "+3", 0 -> "0"; U+2212 for minus signs, as typeset.
std::string number(double x) {
    if (std::abs(x) < 5e-10) return "0";
    std::string s = fmt::format("{:.2f}", std::abs(x));
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return (x < 0 ? "\u2212" : "+") + s;
}
std::string plain(double x) {   // without the plus sign
    const std::string s = number(x);
    return s[0] == '+' ? s.substr(1) : s;
}

// ---- a small SVG writer ---------------------------------------------------------------------
struct point {
    double x, y;
};
point operator+(point a, point b) { return {a.x + b.x, a.y + b.y}; }
point operator-(point a, point b) { return {a.x - b.x, a.y - b.y}; }
point operator*(double s, point a) { return {s * a.x, s * a.y}; }

std::string escape(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '&')
            out += "&amp;";
        else if (c == '<')
            out += "&lt;";
        else if (c == '>')
            out += "&gt;";
        else
            out += c;
    }
    return out;
}

class svg {
public:
    svg(int width, int height) : width_(width), height_(height) {}

    void line(point a, point b, std::string_view color, double width = 1.5, std::string_view dash = "") {
        body_ += fmt::format(
            R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="{}"{}/>)"
            "\n",
            a.x, a.y, b.x, b.y, color, width,
            dash.empty() ? "" : fmt::format(R"( stroke-dasharray="{}")", dash));
    }
    void polygon(const std::vector<point>& pts, std::string_view fill, double opacity,
                 std::string_view stroke = "none", double stroke_width = 1) {
        std::string list;
        for (const auto& p : pts) list += fmt::format("{:.1f},{:.1f} ", p.x, p.y);
        body_ +=
            fmt::format(R"(<polygon points="{}" fill="{}" fill-opacity="{}" stroke="{}" stroke-width="{}"/>)"
                        "\n",
                        list, fill, opacity, stroke, stroke_width);
    }
    // A vector from a to b with a filled head.
    void arrow(point a, point b, std::string_view color, double width = 3) {
        const point d = b - a;
        const double length = std::hypot(d.x, d.y);
        const point unit = (1.0 / length) * d, normal{-unit.y, unit.x};
        const double head = 13, half = 5.5;
        line(a, b - (head - 2) * unit, color, width);
        polygon({b, b - head * unit + half * normal, b - head * unit - half * normal}, color, 1.0);
    }
    void circle(point c, double r, std::string_view fill) {
        body_ += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="{}" fill="{}"/>)"
                             "\n",
                             c.x, c.y, r, fill);
    }
    void rect(point corner, double w, double h, std::string_view fill, std::string_view stroke) {
        body_ +=
            fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{}" height="{}" rx="8" fill="{}" stroke="{}"/>)"
                        "\n",
                        corner.x, corner.y, w, h, fill, stroke);
    }
    // anchor: start, middle or end
    void text(point at, std::string_view content, int size, std::string_view color = "#222",
              std::string_view anchor = "start", bool bold = false) {
        body_ += fmt::format(
            R"(<text x="{:.1f}" y="{:.1f}" font-size="{}" fill="{}" text-anchor="{}"{}>{}</text>)"
            "\n",
            at.x, at.y, size, color, anchor, bold ? R"( font-weight="bold")" : "", escape(content));
    }
    // A label inside a drawing, on a white halo so that lines behind it do not cut it.
    void label(point at, std::string_view content, int size, std::string_view color,
               std::string_view anchor = "middle", bool bold = true) {
        body_ += fmt::format(
            R"(<text x="{:.1f}" y="{:.1f}" font-size="{}" fill="{}" text-anchor="{}"{} )"
            R"(stroke="white" stroke-width="4" stroke-linejoin="round" paint-order="stroke">{}</text>)"
            "\n",
            at.x, at.y, size, color, anchor, bold ? R"( font-weight="bold")" : "", escape(content));
    }

    std::string document() const {
        return fmt::format(R"(<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{1}" viewBox="0 0 {0} {1}" font-family="DejaVu Sans, Verdana, sans-serif">
<rect width="{0}" height="{1}" fill="white"/>
{2}</svg>
)",
                           width_, height_, body_);
    }

private:
    int width_, height_;
    std::string body_;
};

// ---- colours -------------------------------------------------------------------------------
constexpr std::string_view u_color = "#1f4e9c", v_color = "#b8322a", grid = "#e4e4e4", axis = "#777";
constexpr std::string_view positive_fill = "#3b8bd9", negative_fill = "#f08c2e", dot_color = "#5a5a5a";
std::string_view fill_for(double area) { return area >= 0 ? positive_fill : negative_fill; }

// ---- 2-D and 3-D coordinate frames -----------------------------------------------------------
struct frame2 {   // x right, y up; `scale` pixels per unit
    point origin;
    double scale;
    point operator()(double x, double y) const { return {origin.x + scale * x, origin.y - scale * y}; }
};

struct frame3 {   // an oblique view: x towards the viewer (down-left), y right, z up
    point origin;
    double scale;
    point operator()(double x, double y, double z) const {
        return origin + scale * point{-0.62 * x + 1.0 * y, 0.42 * x + 0.22 * y - 1.0 * z};
    }
    point operator()(const std::array<double, 3>& p) const { return (*this)(p[0], p[1], p[2]); }
};

void grid2(svg& s, const frame2& f, int x0, int x1, int y0, int y1) {
    for (int x = x0; x <= x1; ++x) s.line(f(x, y0), f(x, y1), grid, 1);
    for (int y = y0; y <= y1; ++y) s.line(f(x0, y), f(x1, y), grid, 1);
    s.line(f(x0, 0), f(x1 + 0.4, 0), axis, 1.5);
    s.line(f(0, y0), f(0, y1 + 0.4), axis, 1.5);
}

// The three walls of a box [-back, size]^3 seen from outside its corner (the floor z = -back and
// the walls x = -back, y = -back), and the three axes through the origin.
void axes3(svg& s, const frame3& f, double size, double back = 0) {
    const double b = -back;
    s.polygon({f(b, b, b), f(size, b, b), f(size, size, b), f(b, size, b)}, "#f1f1f1", 1.0, "#d4d4d4");
    s.polygon({f(b, b, b), f(b, size, b), f(b, size, size), f(b, b, size)}, "#f6f6f6", 1.0, "#d4d4d4");
    s.polygon({f(b, b, b), f(size, b, b), f(size, b, size), f(b, b, size)}, "#fafafa", 1.0, "#d4d4d4");
    s.line(f(0, 0, 0), f(size + 0.3, 0, 0), axis, 1.5);
    s.line(f(0, 0, 0), f(0, size + 0.3, 0), axis, 1.5);
    s.line(f(0, 0, 0), f(0, 0, size + 0.3), axis, 1.5);
    s.label(f(size + 0.45, 0, 0) + point{-6, 14}, "x", 15, "#444", "middle", false);
    s.label(f(0, size + 0.45, 0) + point{10, 6}, "y", 15, "#444", "middle", false);
    s.label(f(0, 0, size + 0.45) + point{0, -4}, "z", 15, "#444", "middle", false);
}

// Where to put the label of a vector's tip: a little beyond the tip, away from `centre`.
point beyond(point tip, point centre, double distance = 16) {
    const point d = tip - centre;
    const double length = std::max(std::hypot(d.x, d.y), 1e-9);
    return tip + (distance / length) * d + point{0, 5};
}

std::vector<point> parallelogram2(const frame2& f, const std::array<double, 2>& u,
                                  const std::array<double, 2>& v) {
    return {f(0, 0), f(u[0], u[1]), f(u[0] + v[0], u[1] + v[1]), f(v[0], v[1])};
}

std::vector<point> parallelogram3(const frame3& f, const std::array<double, 3>& u,
                                  const std::array<double, 3>& v) {
    return {f(0, 0, 0), f(u), f(u[0] + v[0], u[1] + v[1], u[2] + v[2]), f(v)};
}

// ---- the picture ---------------------------------------------------------------------------
constexpr int width = 1200, height = 1660;

std::string picture() {
    svg s(width, height);
    s.text({width / 2.0, 44}, "Plücker coordinates: what a pair of vectors spans", 28, "#111", "middle",
           true);
    s.text({width / 2.0, 74},
           "Attention compares two vectors by their dot product. The Grassmann mixer describes the plane "
           "they span.",
           15, "#444", "middle");

    // ---- 1. dot product against signed area, in 2-D -----------------------------------------
    const std::array<double, 2> u2{3, 1}, v2{1, 3};
    const double d2 = dot<2>(u2, v2);
    const double area = plucker<2>(u2, v2)[0];
    const double swapped = plucker<2>(v2, u2)[0];

    s.rect({30, 100}, 555, 470, "none", "#cccccc");
    s.text({50, 132}, "1a. The dot product: one number", 19, "#111", "start", true);
    const frame2 left{{95, 480}, 72};
    grid2(s, left, 0, 5, 0, 4);
    // the projection of v on u: foot = (u.v / u.u) u
    const double along = d2 / dot<2>(u2, u2);
    const point foot = left(along * u2[0], along * u2[1]);
    s.line(left(v2[0], v2[1]), foot, dot_color, 1.8, "6 4");
    s.line(left(0, 0), foot, dot_color, 7);
    s.arrow(left(0, 0), left(u2[0], u2[1]), u_color);
    s.arrow(left(0, 0), left(v2[0], v2[1]), v_color);
    s.label(left(u2[0], u2[1]) + point{10, 4}, "u = (3, 1)", 16, u_color, "start", false);
    s.label(left(v2[0], v2[1]) + point{-6, -12}, "v = (1, 3)", 16, v_color, "middle", false);
    s.text({50, 532}, fmt::format("u \u00b7 v = 3\u00b71 + 1\u00b73 = {}", plain(d2)), 17, "#111", "start",
           true);
    s.text({50, 556}, "(grey bar: how far v reaches along u; the dot product is its length times |u|)", 13,
           "#555");

    s.rect({615, 100}, 555, 470, "none", "#cccccc");
    s.text({635, 132}, "1b. The Plücker coordinate: a signed area", 19, "#111", "start", true);
    const frame2 right{{680, 480}, 72};
    grid2(s, right, 0, 5, 0, 4);
    s.polygon(parallelogram2(right, u2, v2), fill_for(area), 0.35, fill_for(area), 1.5);
    s.arrow(right(0, 0), right(u2[0], u2[1]), u_color);
    s.arrow(right(0, 0), right(v2[0], v2[1]), v_color);
    s.label(right(u2[0], u2[1]) + point{10, 4}, "u", 16, u_color, "start");
    s.label(right(v2[0], v2[1]) + point{-14, -6}, "v", 16, v_color, "start");
    s.text(right(2.0, 2.0) + point{0, 6}, fmt::format("area {}", plain(area)), 17, "#123", "middle", true);
    s.text({635, 532}, fmt::format("p01 = u0 v1 \u2212 u1 v0 = 3\u00b73 \u2212 1\u00b71 = {}", plain(area)),
           17, "#111", "start", true);
    s.text({635, 556},
           fmt::format("positive: v turns counter-clockwise from u; swap them and it is {}", plain(swapped)),
           13, "#555");

    // ---- 2. the same dot product, different planes --------------------------------------------
    const std::array<double, 3> a1{1, 2, 0}, b1{2, 1, 0}, a2{1, 0, 2}, b2{2, 0, 1};
    const double dot1 = dot<3>(a1, b1), dot2 = dot<3>(a2, b2);
    const auto p1 = plucker<3>(a1, b1), p2 = plucker<3>(a2, b2);

    s.text({30, 622}, "2. The same dot product, different planes", 21, "#111", "start", true);
    s.text(
        {30, 648},
        fmt::format("Both pairs have u \u00b7 v = {}, so a dot product cannot tell them apart; their Plücker "
                    "coordinates can.",
                    plain(dot1)),
        15, "#444");
    const auto pair_panel = [&](double x0, std::string_view title, const std::array<double, 3>& a,
                                const std::array<double, 3>& b, double d, const std::array<double, 3>& p,
                                std::string_view plane) {
        s.rect({x0, 668}, 555, 470, "none", "#cccccc");
        s.text({x0 + 20, 698}, title, 17, "#111", "start", true);
        s.text({x0 + 20, 722}, fmt::format("u = ({}, {}, {})", plain(a[0]), plain(a[1]), plain(a[2])), 15,
               u_color);
        s.text({x0 + 20, 744}, fmt::format("v = ({}, {}, {})", plain(b[0]), plain(b[1]), plain(b[2])), 15,
               v_color);
        const frame3 f{{x0 + 250, 958}, 62};
        axes3(s, f, 3.0);
        const double signed_area = p[0] + p[1] + p[2];   // only one coordinate is non-zero here
        const auto shape = parallelogram3(f, a, b);
        const point centre = 0.25 * (shape[0] + shape[1] + shape[2] + shape[3]);
        s.polygon(shape, fill_for(signed_area), 0.4, fill_for(signed_area), 1.5);
        s.arrow(f(0, 0, 0), f(a), u_color);
        s.arrow(f(0, 0, 0), f(b), v_color);
        s.label(beyond(f(a), centre), "u", 16, u_color);
        s.label(beyond(f(b), centre), "v", 16, v_color);
        s.text({x0 + 20, 1094},
               fmt::format("u \u00b7 v = {}, and the pair spans the {} plane", plain(d), plane), 16, "#111");
        s.text({x0 + 20, 1120},
               fmt::format("Plücker (p01, p02, p12) = ({}, {}, {})", plain(p[0]), plain(p[1]), plain(p[2])),
               16, "#111", "start", true);
    };
    pair_panel(30, "pair 1", a1, b1, dot1, p1, "xy");
    pair_panel(615, "pair 2", a2, b2, dot2, p2, "xz");
    s.text({width / 2.0, 1160}, "Blue: positive area. Orange: negative area (v turns clockwise from u).", 14,
           "#444", "middle");

    // ---- 3. three shadows ------------------------------------------------------------------------
    const std::array<double, 3> u3{2, 0.4, 1.2}, v3{0.6, 1.8, 1.6};
    std::array<double, 3> p3{};
    const double area_sq = plucker_coordinates<3>(u3.data(), v3.data(), p3.data());

    constexpr double top = 1210;   // section 3 starts here
    s.text({30, top}, "3. In 3-D a pair has three coordinates: the areas of its three shadows", 21, "#111",
           "start", true);
    s.text(
        {30, top + 26},
        "Project the parallelogram of u and v onto each coordinate plane. Each shadow's signed area is one "
        "Plücker coordinate.",
        15, "#444");
    s.rect({30, top + 46}, 555, 390, "none", "#cccccc");
    const double back = 1.2;   // the walls stand back from the origin, so the shadows are in the open
    const frame3 f{{300, top + 272}, 46};
    axes3(s, f, 3.2, back);
    // a shadow: the parallelogram with one coordinate set to the wall's
    const auto flat = [&](std::array<double, 3> p, int drop) {
        p[drop] = -back;
        return p;
    };
    const std::array<int, 3> dropped{2, 1, 0};   // xy drops z, xz drops y, yz drops x
    const std::array<std::string_view, 3> plane_names{"xy", "xz", "yz"};
    const std::array<double, 3> corner{u3[0] + v3[0], u3[1] + v3[1], u3[2] + v3[2]};
    for (int c = 0; c < 3; ++c) {
        const std::array<double, 3> origin = flat({0, 0, 0}, dropped[c]);
        const auto shadow = std::vector<point>{f(origin), f(flat(u3, dropped[c])),
                                               f(flat(corner, dropped[c])), f(flat(v3, dropped[c]))};
        s.polygon(shadow, fill_for(p3[c]), 0.45, fill_for(p3[c]), 1);
        const point centre = 0.25 * (shadow[0] + shadow[1] + shadow[2] + shadow[3]);
        s.label(centre + point{0, 5}, plane_names[c], 14, "#222");
    }
    for (const auto& p : {u3, v3, corner}) s.line(f(p), f(flat(p, 2)), "#9a9a9a", 1, "3 3");
    const auto shape = parallelogram3(f, u3, v3);
    const point centre = 0.25 * (shape[0] + shape[1] + shape[2] + shape[3]);
    s.polygon(shape, "#7d5ba6", 0.35, "#5b3f86", 1.5);
    s.arrow(f(0, 0, 0), f(u3), u_color);
    s.arrow(f(0, 0, 0), f(v3), v_color);
    s.label(beyond(f(u3), centre), "u", 16, u_color);
    s.label(beyond(f(v3), centre), "v", 16, v_color);
    s.text({50, top + 76}, fmt::format("u = ({}, {}, {})", plain(u3[0]), plain(u3[1]), plain(u3[2])), 15,
           u_color);
    s.text({50, top + 98}, fmt::format("v = ({}, {}, {})", plain(v3[0]), plain(v3[1]), plain(v3[2])), 15,
           v_color);
    s.text({565, top + 76}, "purple: the parallelogram", 14, "#5b3f86", "end");
    s.text({565, top + 98}, "blue, orange: its shadows", 14, "#555", "end");

    // the three shadows, flat
    const std::array<std::string_view, 3> names{"xy shadow", "xz shadow", "yz shadow"};
    const std::array<std::array<int, 2>, 3> kept{{{0, 1}, {0, 2}, {1, 2}}};
    const std::array<std::string_view, 3> labels{"p01", "p02", "p12"};
    for (int c = 0; c < 3; ++c) {
        const double x0 = 615 + c * 188;
        s.rect({x0, top + 46}, 178, 280, "none", "#cccccc");
        s.text({x0 + 89, top + 74}, names[c], 16, "#111", "middle", true);
        const frame2 g{{x0 + 32, top + 250}, 36};
        grid2(s, g, 0, 3, 0, 4);
        const std::array<double, 2> a{u3[kept[c][0]], u3[kept[c][1]]}, b{v3[kept[c][0]], v3[kept[c][1]]};
        s.polygon(parallelogram2(g, a, b), fill_for(p3[c]), 0.45, fill_for(p3[c]), 1.2);
        s.arrow(g(0, 0), g(a[0], a[1]), u_color, 2.5);
        s.arrow(g(0, 0), g(b[0], b[1]), v_color, 2.5);
        const std::string axes = fmt::format("{} \u2192, {} \u2191", "xyz"[kept[c][0]], "xyz"[kept[c][1]]);
        s.text({x0 + 89, top + 274}, axes, 13, "#666", "middle");
        s.text({x0 + 89, top + 308}, fmt::format("{} = {}", labels[c], number(p3[c])), 17, "#111", "middle",
               true);
    }
    s.text({615, top + 360},
           fmt::format("Plücker (p01, p02, p12) = ({}, {}, {})", plain(p3[0]), plain(p3[1]), plain(p3[2])),
           16, "#111", "start", true);
    const auto squared = [](double x) {
        return x < 0 ? fmt::format("({})\u00b2", plain(x)) : plain(x) + "\u00b2";
    };
    s.text({615, top + 384},
           fmt::format("The squares add up to the squared area: {} + {} + {} = {:.2f}\u00b2", squared(p3[0]),
                       squared(p3[1]), squared(p3[2]), std::sqrt(area_sq)),
           14, "#444");
    s.text({615, top + 406}, "Orange: negative area (v turns clockwise from u in that plane).", 14, "#444");
    return s.document();
}

// ---- files -----------------------------------------------------------------------------------
// Writes `content` to `path` through a temporary file in the same directory.
void write_atomically(const fs::path& path, const std::string& content) {
    const fs::path temporary = fs::path(path).concat(".tmp");
    {
        std::ofstream out(temporary, std::ios::binary);
        if (!out) throw gflow::input_error(fmt::format("{}: cannot write", temporary.string()));
        out << content;
        if (!out.flush()) throw gflow::input_error(fmt::format("{}: cannot write", temporary.string()));
    }
    fs::rename(temporary, path);
}

// The first executable called `name` in the directories of $PATH.
fs::path on_path(std::string_view name) {
    const char* path = std::getenv("PATH");
    std::string_view dirs = path ? path : "";
    while (!dirs.empty()) {
        const auto colon = dirs.find(':');
        const fs::path candidate = fs::path(dirs.substr(0, colon)) / name;
        std::error_code ec;
        if (fs::is_regular_file(candidate, ec)
            && (fs::status(candidate, ec).permissions() & fs::perms::owner_exec) != fs::perms::none)
            return candidate;
        dirs = colon == std::string_view::npos ? "" : dirs.substr(colon + 1);
    }
    return {};
}

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}   // namespace

int main(int argc, char** argv) try {
    if (argc > 2) throw gflow::input_error("usage: visualize_plucker [out.svg]");
    const fs::path svg_path = argc > 1 ? argv[1] : "plucker.svg";
    write_atomically(svg_path, picture());
    fmt::print("wrote {} ({} x {})\n", svg_path.string(), width, height);

    const fs::path converter = on_path("rsvg-convert");
    if (converter.empty()) {
        fmt::print("rsvg-convert is not on the PATH, so no PNG was written (Debian: apt-get install "
                   "librsvg2-bin)\n");
        return 0;
    }
    const fs::path png_path = fs::path(svg_path).replace_extension(".png");
    const fs::path temporary = fs::path(png_path).concat(".tmp");
    const std::string command = fmt::format("{} --format=png --output={} {}", shell_quote(converter.string()),
                                            shell_quote(temporary.string()), shell_quote(svg_path.string()));
    if (std::system(command.c_str()) != 0) {
        std::error_code ec;
        fs::remove(temporary, ec);
        fmt::print(stderr, "visualize_plucker: {} failed, no PNG written\n", converter.string());
        return 1;
    }
    fs::rename(temporary, png_path);
    fmt::print("wrote {}\n", png_path.string());
    return 0;
} catch (const gflow::input_error& e) {
    fmt::print(stderr, "visualize_plucker: {}\n", e.what());
    return 2;
} catch (const std::exception& e) {
    fmt::print(stderr, "visualize_plucker: {}\n", e.what());
    return 1;
}

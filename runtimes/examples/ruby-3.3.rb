# Ruby 3.3: Range#overlap? is new; Data (3.2) makes immutable value objects that work
# with pattern matching.
Point = Data.define(:x, :y)

case Point.new(x: 1, y: 2)
in {x:, y:} if x < y
  puts "point below the diagonal: #{x}, #{y}"
end

puts "overlap: #{(1..5).overlap?(4..8)}"
puts "version: #{RUBY_VERSION}"

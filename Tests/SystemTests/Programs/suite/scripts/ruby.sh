ruby -e 'require "json"; require "digest"; puts JSON.generate({"a" => [1, 2]}); puts Digest::SHA256.hexdigest("abc"); puts RUBY_VERSION'
ruby -e 'puts Gem::VERSION; puts [3, 1, 2].sort.inspect; system("ruby", "-e", "puts :child") or abort "spawn failed"'

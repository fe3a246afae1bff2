// seed-data.mjs - the vocabulary of the demo catalog (scripts/seed-catalog.mjs).

// 33 categories in 3 levels, parents before children. Slugs are global keys.
const c = (name, slug, parent, description) => ({ name, slug, parent, description });
// prettier-ignore
export const CATEGORIES = [
  c('Electronics', 'electronics', null, 'Phones, computers, audio and cameras'),
  c('Phones', 'phones', 'electronics', 'Smartphones and mobile phones'),
  c('Laptops', 'laptops', 'electronics', 'Notebooks and ultrabooks'),
  c('Audio', 'audio', 'electronics', 'Listen better'),
  c('Headphones', 'headphones', 'audio', 'Over-ear, on-ear and in-ear'),
  c('Speakers', 'speakers', 'audio', 'Portable and home speakers'),
  c('Cameras', 'cameras', 'electronics', 'Mirrorless, compact and action cameras'),
  c('Fashion', 'fashion', null, 'Clothing, shoes and accessories'),
  c('Men', 'men', 'fashion', "Men's clothing and shoes"),
  c('Shirts', 'men-shirts', 'men', "Men's shirts"),
  c('Shoes', 'men-shoes', 'men', "Men's shoes"),
  c('Women', 'women', 'fashion', "Women's clothing and shoes"),
  c('Dresses', 'women-dresses', 'women', 'Dresses for every day and evening'),
  c('Shoes', 'women-shoes', 'women', "Women's shoes"),
  c('Accessories', 'accessories', 'fashion', 'Bags, watches and more'),
  c('Bags', 'bags', 'accessories', 'Backpacks, totes and travel bags'),
  c('Watches', 'watches', 'accessories', 'Analogue and smart watches'),
  c('Home & Kitchen', 'home-kitchen', null, 'Furniture, cookware, bedding and lighting'),
  c('Furniture', 'furniture', 'home-kitchen', 'Tables, chairs and shelves'),
  c('Cookware', 'cookware', 'home-kitchen', 'Pans, pots and knives'),
  c('Bedding', 'bedding', 'home-kitchen', 'Sheets, duvets and pillows'),
  c('Lighting', 'lighting', 'home-kitchen', 'Lamps and bulbs'),
  c('Sports & Outdoors', 'sports-outdoors', null, 'Fitness, camping and cycling'),
  c('Fitness', 'fitness', 'sports-outdoors', 'Train at home or at the gym'),
  c('Camping', 'camping', 'sports-outdoors', 'Tents, sleeping bags and stoves'),
  c('Cycling', 'cycling', 'sports-outdoors', 'Bikes, helmets and parts'),
  c('Books', 'books', null, 'Printed books'),
  c('Fiction', 'fiction', 'books', 'Novels and stories'),
  c('Non-fiction', 'non-fiction', 'books', 'History, science and more'),
  c("Children's books", 'childrens-books', 'books', 'Picture books and first readers'),
  c('Toys & Games', 'toys-games', null, 'Games and toys for all ages'),
  c('Board games', 'board-games', 'toys-games', 'Strategy, family and party games'),
  c('Puzzles', 'puzzles', 'toys-games', 'Jigsaw and 3D puzzles'),
];

// Colour names (the 'color' attribute) and the RGB of their images.
export const COLOURS = {
  Black: [33, 33, 33], White: [200, 200, 205], Grey: [110, 115, 120], Navy: [25, 45, 95],
  Blue: [30, 100, 190], Red: [190, 40, 45], Green: [40, 130, 70], Olive: [110, 115, 50],
  Beige: [180, 160, 120], Brown: [120, 80, 50], Pink: [215, 95, 140], Yellow: [200, 160, 20],
};

const CLOTHES = ['XS', 'S', 'M', 'L', 'XL', 'XXL'];
const SHOES = ['36', '37', '38', '39', '40', '41', '42', '43', '44', '45', '46'];
const line = (category, code, price, o) => ({ category, code, price, ...o });

// One product line per leaf category: what its products are called, made
// of, sized and priced like (whole euros; the seed adds .99).
// prettier-ignore
export const LINES = [
  line('phones', 'PHN', [149, 1299], { brands: ['Nokta', 'Pixelon', 'Orbit', 'Zentel'], nouns: ['Smartphone', 'Phone'], adjectives: ['5G', 'Compact', 'Rugged', 'Flagship'], materials: ['Aluminium', 'Glass', 'Polycarbonate'], sizes: ['128 GB', '256 GB', '512 GB'], pitches: ['all-day battery and a bright OLED screen.', 'a triple camera that shines at night.'], details: ['Dual SIM, USB-C, two years of updates.', 'Water resistant (IP68).'] }),
  line('laptops', 'LAP', [399, 2499], { brands: ['Lumina', 'Kestrel', 'Northbook', 'Vertex'], nouns: ['Laptop', 'Notebook', 'Ultrabook'], adjectives: ['Thin', 'Gaming', 'Business', 'Convertible'], materials: ['Aluminium', 'Magnesium', 'Plastic'], sizes: ['13 inch', '14 inch', '15.6 inch', '16 inch'], pitches: ['fast, quiet and light enough to carry all day.', 'a keyboard you will enjoy typing on.'], details: ['16 GB RAM, 512 GB SSD.', 'Backlit keyboard and a 1080p webcam.'] }),
  line('headphones', 'HPH', [19, 449], { brands: ['Sonora', 'Bassline', 'Quietude'], nouns: ['Headphones', 'Earbuds', 'Headset'], adjectives: ['Wireless', 'Noise-cancelling', 'Studio', 'Sport'], materials: ['Plastic', 'Aluminium', 'Leather'], pitches: ['rich sound that blocks out the commute.', 'comfortable for hours.'], details: ['Up to 30 hours of battery.', 'Bluetooth 5.3 with multipoint.'] }),
  line('speakers', 'SPK', [29, 699], { brands: ['Sonora', 'Bassline', 'Echofield'], nouns: ['Speaker', 'Soundbar', 'Boombox'], adjectives: ['Portable', 'Waterproof', 'Smart', 'Outdoor'], materials: ['Fabric', 'Plastic', 'Wood'], pitches: ['room-filling sound from a small box.', 'deep bass for your parties.'], details: ['Pairs with a second speaker for stereo.', 'Charges over USB-C.'] }),
  line('cameras', 'CAM', [99, 2999], { brands: ['Optika', 'Lumix', 'Aperture'], nouns: ['Camera', 'Action Cam', 'Lens'], adjectives: ['Mirrorless', 'Compact', '4K', 'Vlogging'], materials: ['Magnesium', 'Plastic', 'Aluminium'], pitches: ['sharp pictures in any light.', 'stabilised 4K video.'], details: ['Weather sealed.', 'Wi-Fi transfer to your phone.'] }),
  line('men-shirts', 'MSH', [15, 129], { brands: ['Harbor & Co', 'Fieldwear', 'Tailor Row'], nouns: ['Shirt', 'Polo', 'Oxford Shirt', 'T-Shirt'], adjectives: ['Slim-fit', 'Classic', 'Linen', 'Casual'], materials: ['Cotton', 'Linen', 'Organic cotton'], sizes: CLOTHES, pitches: ['a shirt for the office and the weekend.', 'breathable and easy to iron.'], details: ['Machine washable at 30 degrees.', 'Mother-of-pearl buttons.'] }),
  line('men-shoes', 'MSO', [39, 249], { brands: ['Stride', 'Cobbler & Sons', 'Trailmark'], nouns: ['Sneakers', 'Boots', 'Loafers', 'Derby Shoes'], adjectives: ['Leather', 'Running', 'Suede', 'Waterproof'], materials: ['Leather', 'Suede', 'Mesh'], sizes: SHOES, pitches: ['comfortable from the first step.', 'built to be resoled.'], details: ['Cushioned insole.', 'Rubber outsole with good grip.'] }),
  line('women-dresses', 'WDR', [25, 299], { brands: ['Maison Lys', 'Fieldwear', 'Aurelle'], nouns: ['Dress', 'Maxi Dress', 'Wrap Dress', 'Shirt Dress'], adjectives: ['Summer', 'Evening', 'Floral', 'Midi'], materials: ['Viscose', 'Cotton', 'Silk', 'Linen'], sizes: CLOTHES, pitches: ['flowing and easy to wear.', 'from day to evening in one dress.'], details: ['Hidden side pockets.', 'Lined, machine washable.'] }),
  line('women-shoes', 'WSO', [35, 279], { brands: ['Stride', 'Aurelle', 'Trailmark'], nouns: ['Sneakers', 'Ankle Boots', 'Sandals', 'Pumps'], adjectives: ['Leather', 'Comfort', 'Suede', 'Platform'], materials: ['Leather', 'Suede', 'Canvas'], sizes: SHOES.slice(0, 8), pitches: ['comfortable all day long.', 'a classic shape that goes with everything.'], details: ['Padded footbed.', 'Non-slip sole.'] }),
  line('bags', 'BAG', [19, 399], { brands: ['Carryall', 'Nomad Goods', 'Maison Lys'], nouns: ['Backpack', 'Tote', 'Duffel Bag', 'Messenger Bag'], adjectives: ['Travel', 'Everyday', 'Laptop', 'Weekender'], materials: ['Canvas', 'Leather', 'Recycled nylon'], sizes: ['15 L', '20 L', '30 L', '40 L'], pitches: ['room for everything you carry.', 'a padded laptop sleeve and many pockets.'], details: ['Water-repellent.', 'Lifetime warranty on zips.'] }),
  line('watches', 'WAT', [49, 899], { brands: ['Chronos', 'Tidewell', 'Pulse'], nouns: ['Watch', 'Smartwatch', 'Chronograph'], adjectives: ['Automatic', 'Diver', 'Field', 'Fitness'], materials: ['Stainless steel', 'Titanium', 'Leather'], sizes: ['38 mm', '40 mm', '42 mm', '44 mm'], pitches: ['a watch for every wrist and occasion.', 'sapphire crystal and a clean dial.'], details: ['Water resistant to 100 m.', 'Quick-release straps.'] }),
  line('furniture', 'FUR', [49, 1499], { brands: ['Nordhem', 'Oakline', 'Casa Viva'], nouns: ['Table', 'Chair', 'Bookshelf', 'Desk', 'Sofa'], adjectives: ['Oak', 'Modern', 'Foldable', 'Scandinavian'], materials: ['Oak', 'Pine', 'Steel', 'Walnut'], sizes: ['Small', 'Medium', 'Large'], pitches: ['solid, simple and made to last.', 'assembles in under 30 minutes.'], details: ['Tools included.', 'FSC-certified wood.'] }),
  line('cookware', 'CKW', [12, 349], { brands: ['Chef Atelier', 'Ironhearth', 'Casa Viva'], nouns: ['Frying Pan', 'Saucepan', 'Dutch Oven', 'Knife Set'], adjectives: ['Non-stick', 'Cast-iron', 'Stainless', 'Copper'], materials: ['Stainless steel', 'Cast iron', 'Copper', 'Aluminium'], sizes: ['20 cm', '24 cm', '28 cm'], pitches: ['even heat on every hob, induction included.', 'a kitchen companion for decades.'], details: ['Oven safe to 250 degrees.', 'Dishwasher safe.'] }),
  line('bedding', 'BED', [19, 299], { brands: ['Dreamwell', 'Nordhem', 'Linen House'], nouns: ['Duvet Cover', 'Pillow', 'Sheet Set', 'Duvet'], adjectives: ['Organic', 'Percale', 'Washed-linen', 'All-season'], materials: ['Cotton', 'Linen', 'Bamboo'], sizes: ['Single', 'Double', 'King'], pitches: ['cool in summer, cosy in winter.', 'softer with every wash.'], details: ['OEKO-TEX certified.', 'Hidden button closure.'] }),
  line('lighting', 'LGT', [9, 399], { brands: ['Lumen & Co', 'Nordhem', 'Glowhaus'], nouns: ['Floor Lamp', 'Desk Lamp', 'Pendant Light', 'LED Bulb'], adjectives: ['Dimmable', 'Smart', 'Industrial', 'Minimal'], materials: ['Brass', 'Steel', 'Glass', 'Paper'], pitches: ['warm light where you need it.', 'dimmable and energy saving.'], details: ['E27 socket, bulb included.', 'Works with voice assistants.'] }),
  line('fitness', 'FIT', [9, 899], { brands: ['Ironpeak', 'Flexa', 'Pulse'], nouns: ['Yoga Mat', 'Dumbbell Set', 'Kettlebell', 'Rowing Machine'], adjectives: ['Adjustable', 'Non-slip', 'Foldable', 'Pro'], materials: ['Rubber', 'Steel', 'TPE', 'Neoprene'], sizes: ['4 kg', '8 kg', '12 kg', '16 kg'], pitches: ['a full workout without leaving home.', 'made for daily training.'], details: ['Compact storage.', 'Two-year warranty.'] }),
  line('camping', 'CMP', [15, 699], { brands: ['Trailmark', 'Nomad Goods', 'Summit'], nouns: ['Tent', 'Sleeping Bag', 'Camping Stove', 'Headlamp'], adjectives: ['Ultralight', '3-season', 'Family', 'Expedition'], materials: ['Ripstop nylon', 'Polyester', 'Aluminium'], sizes: ['1 person', '2 person', '4 person'], pitches: ['pitches in minutes, packs down small.', 'ready for wind and rain.'], details: ['Carry bag included.', 'Taped seams.'] }),
  line('cycling', 'CYC', [15, 2999], { brands: ['Velo Nord', 'Summit', 'Spoke & Chain'], nouns: ['Helmet', 'City Bike', 'Bike Light', 'Gravel Bike'], adjectives: ['Aero', 'Commuter', 'Carbon', 'Folding'], materials: ['Aluminium', 'Carbon', 'Steel'], sizes: ['S', 'M', 'L', 'XL'], pitches: ['fast on the road and sure on gravel.', 'safe and seen in traffic.'], details: ['Tool-free adjustment.', 'USB rechargeable.'] }),
  line('fiction', 'FIC', [8, 35], { brands: ['Penwright Press', 'Harbor Books', 'Quill House'], nouns: ['Novel', 'Thriller', 'Short Stories', 'Mystery'], adjectives: ['Bestselling', 'Award-winning', 'Gripping', 'Classic'], materials: ['Paperback', 'Hardcover'], pitches: ['a story you will not put down.', 'the talk of every book club.'], details: ['Around 400 pages.', 'With a new afterword by the author.'] }),
  line('non-fiction', 'NFI', [10, 49], { brands: ['Penwright Press', 'Atlas Editions', 'Quill House'], nouns: ['History', 'Biography', 'Cookbook', 'Science Guide'], adjectives: ['Illustrated', 'Definitive', 'Practical', 'Popular'], materials: ['Paperback', 'Hardcover'], pitches: ['clear, curious and full of surprises.', 'research that reads like a novel.'], details: ['With maps and photographs.', 'Indexed and referenced.'] }),
  line('childrens-books', 'KID', [5, 25], { brands: ['Little Owl', 'Harbor Books', 'Bright Page'], nouns: ['Picture Book', 'Bedtime Stories', 'First Reader', 'Activity Book'], adjectives: ['Illustrated', 'Rhyming', 'Lift-the-flap', 'Funny'], materials: ['Board book', 'Paperback', 'Hardcover'], pitches: ['bedtime made magical.', 'colourful pages to read together.'], details: ['Ages 3 to 6.', 'Sturdy pages for little hands.'] }),
  line('board-games', 'BGM', [12, 89], { brands: ['Meeple Works', 'Dicecraft', 'Family Night'], nouns: ['Board Game', 'Card Game', 'Party Game', 'Strategy Game'], adjectives: ['Cooperative', 'Family', 'Classic', 'Deluxe'], materials: ['Cardboard', 'Wood'], sizes: ['2-4 players', '2-6 players', '3-8 players'], pitches: ['easy to learn, hard to stop playing.', 'game night, sorted.'], details: ['Plays in 30 to 60 minutes.', 'Ages 8 and up.'] }),
  line('puzzles', 'PUZ', [9, 59], { brands: ['Dicecraft', 'Piecewise', 'Family Night'], nouns: ['Jigsaw Puzzle', '3D Puzzle', 'Puzzle Box'], adjectives: ['Landscape', 'Challenging', 'Panorama', 'Wooden'], materials: ['Cardboard', 'Wood'], sizes: ['500 pieces', '1000 pieces', '2000 pieces'], pitches: ['hours of calm concentration.', 'a picture worth framing when done.'], details: ['Poster included.', 'Made from recycled board.'] }),
];
